-- Person-level, across departments, on person_key: for authorised use only. Lives in schema restricted, which
-- the analyst snapshot leaves out; open the working file (unsilo query --working) to use it.
-- columns:
--   person_key: Pseudonymous key of the person.
--   community_code: Community of residence (current record).
--   grid_code: Grid cell of residence (current record).
--   sex_code: Sex (GB/T 2261.1).
--   birth_date: Date of birth.
--   household_key: The household the person heads, if any.
--   employed: An employment spell without an end date is on record.
--   open_unemployment_claim: An unemployment claim with status open is on record.
--   subsidised_household: The household the person heads has a housing subsidy on record.
--   clinic_encounters: Health encounters on record.
--   immunizations: Immunizations on record.
CREATE OR REPLACE VIEW restricted.person_profile AS
SELECT p.person_key, p.community_code, p.grid_code, p.sex_code, p.birth_date, h.household_key,
       EXISTS (SELECT 1 FROM std.employment_spell e WHERE e.person_key = p.person_key AND e.ended_on IS NULL)
           AS employed,
       EXISTS (SELECT 1 FROM std.unemployment_claim c WHERE c.person_key = p.person_key AND c.status_code = 'open')
           AS open_unemployment_claim,
       EXISTS (SELECT 1 FROM std.housing_subsidy s WHERE s.household_key = h.household_key) AS subsidised_household,
       (SELECT count(*) FROM std.health_encounter e WHERE e.person_key = p.person_key) AS clinic_encounters,
       (SELECT count(*) FROM std.immunization i WHERE i.person_key = p.person_key) AS immunizations
FROM std.person p
LEFT JOIN std.household h ON h.head_person_key = p.person_key;
