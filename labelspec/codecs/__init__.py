"""Binary encodings used by the formats (Encord bitmask RLE, COCO RLE, Segments bitmap ids)."""
