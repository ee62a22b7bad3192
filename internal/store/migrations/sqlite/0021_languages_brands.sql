-- Languages and brands: a list's language (BCP 47, '' for the
-- publication's) and its own brand as JSON ('' for none: the
-- publication's); an admin user's language ('' for the English admin).
ALTER TABLE lists ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE lists ADD COLUMN brand TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
