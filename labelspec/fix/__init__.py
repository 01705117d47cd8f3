"""``labelspec fix``: mechanical repairs of exports, declared in the rule catalogue (see ``catalogue``)."""
