-- Candor's version.
return "0.1.0"
