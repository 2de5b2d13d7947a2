-- Per community, now, with street and district totals: residents (health records), households, open unemployment
-- claims, subsidised households. Joins three departments through the shared community code and pseudonymous
-- household keys. Every figure follows disclosure control (docs/disclosure-control.md): counts under
-- UNSILO_MIN_CELL (default 5, zeros are shown) and the cells that would give them away by subtraction from a total
-- (here, or in marts.community_month's last month, which shares these figures) are NULL and named in `suppressed`.
-- columns:
--   community_code: 12-digit statistical division code of the community; NULL on street and district rows.
--   community_name: Name of the community; NULL on street and district rows.
--   street_code: 9-digit code of the street (街道); NULL on the district row.
--   street_name: Name of the street (街道) the community belongs to; NULL on the district row.
--   district_code: 6-digit administrative division code of the district.
--   level: community, street (the total of its communities) or district (the total of its streets).
--   residents: Persons whose current record lives in the community.
--   households: Current households registered in the community.
--   open_unemployment_claims: Unemployment claims with status open, by the claim's community.
--   subsidised_households: Households of the community with at least one housing subsidy record.
--   suppressed: Columns of this row withheld by disclosure control (comma-separated), NULL when none.
CREATE OR REPLACE TABLE marts_raw.community_overview AS
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
), cells AS (
    SELECT c.community_code, c.community_name, c.street_code, c.street_name, c.district_code,
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
SELECT community_code, community_name, street_code, street_name, district_code,
       CASE WHEN grouping(community_code) = 0 THEN 'community' WHEN grouping(street_code) = 0 THEN 'street'
            ELSE 'district' END AS level,
       sum(residents)::BIGINT AS residents, sum(households)::BIGINT AS households,
       sum(open_unemployment_claims)::BIGINT AS open_unemployment_claims,
       sum(subsidised_households)::BIGINT AS subsidised_households
FROM cells
GROUP BY GROUPING SETS ((district_code, street_code, street_name, community_code, community_name),
                        (district_code, street_code, street_name), (district_code));
