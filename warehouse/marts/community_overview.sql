-- Per community, now: residents (health records), households, open unemployment claims, subsidised households.
-- Joins three departments through the shared community code and pseudonymous household keys. Communities with
-- fewer than UNSILO_MIN_CELL residents show NULL figures (small-cell suppression).
-- columns:
--   community_code: 12-digit statistical division code of the community.
--   community_name: Name of the community.
--   street_name: Name of the street (街道) the community belongs to.
--   residents: Persons whose current record lives in the community.
--   households: Current households registered in the community.
--   open_unemployment_claims: Unemployment claims with status open, by the claim's community.
--   subsidised_households: Households of the community with at least one housing subsidy record.
CREATE OR REPLACE VIEW marts.community_overview AS
WITH residents AS (
    SELECT community_code, count(*) AS residents FROM std.person GROUP BY community_code
), households AS (
    SELECT community_code, count(*) AS households FROM std.household GROUP BY community_code
), open_claims AS (
    SELECT community_code, count(*) AS open_unemployment_claims
    FROM std.unemployment_claim WHERE status_code = 'open' GROUP BY community_code
), subsidised AS (
    SELECT h.community_code, count(DISTINCT s.household_key) AS subsidised_households
    FROM std.housing_subsidy s JOIN std.household h USING (household_key) GROUP BY h.community_code
), overview AS (
    SELECT c.community_code, c.community_name, c.street_name,
           coalesce(r.residents, 0) AS residents,
           coalesce(h.households, 0) AS households,
           coalesce(o.open_unemployment_claims, 0) AS open_unemployment_claims,
           coalesce(s.subsidised_households, 0) AS subsidised_households
    FROM std.community c
    LEFT JOIN residents r USING (community_code)
    LEFT JOIN households h USING (community_code)
    LEFT JOIN open_claims o USING (community_code)
    LEFT JOIN subsidised s USING (community_code)
)
SELECT community_code, community_name, street_name,
       CASE WHEN residents >= ${UNSILO_MIN_CELL} THEN residents END AS residents,
       CASE WHEN residents >= ${UNSILO_MIN_CELL} THEN households END AS households,
       CASE WHEN residents >= ${UNSILO_MIN_CELL} THEN open_unemployment_claims END AS open_unemployment_claims,
       CASE WHEN residents >= ${UNSILO_MIN_CELL} THEN subsidised_households END AS subsidised_households
FROM overview
ORDER BY community_code;
