-- Fee rules may add conditions on the request (app::fees::Conditions):
-- its material (book, article, chapter), its urgency (normal, urgent) and,
-- for fees patrons pay, a patron group. NULL: any.
ALTER TABLE fee_rules ADD COLUMN material TEXT;
ALTER TABLE fee_rules ADD COLUMN urgency TEXT;
ALTER TABLE fee_rules ADD COLUMN patron_group TEXT;

-- The patron's groups from their last sign-in (the claim named by
-- auth.groups_claim), as a JSON array of strings.
ALTER TABLE patrons ADD COLUMN groups TEXT;
