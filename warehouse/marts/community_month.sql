-- Per community and reporting month, with street and district totals, across health, employment, housing and
-- transport. A reporting month is a month in which a night was loaded; stocks are as of the last night loaded in it
-- (read from the history of scd2 entities and the start/end dates of spells, claims and subsidies), flows count
-- events dated in the month. Every figure about persons or households follows disclosure control
-- (docs/disclosure-control.md): counts under UNSILO_MIN_CELL (default 5, zeros are shown), encounters of fewer
-- patients or dominated by one patient, floor areas of fewer households or dominated by one dwelling, the cells
-- that would give them away by subtraction from a street or district total, and rates of any of these are NULL
-- and named in `suppressed`. Transit stops come from the public GTFS timetable and are shown as they are.
-- columns:
--   community_code: 12-digit statistical division code of the community; NULL on street and district rows.
--   community_name: Name of the community; NULL on street and district rows.
--   street_code: 9-digit code of the street (街道); NULL on the district row.
--   district_code: 6-digit administrative division code of the district.
--   level: community, street (the total of its communities) or district (the total of its streets).
--   month: First day of the reporting month.
--   as_of: The last night loaded in the month (start of its data interval); stocks are as of this day.
--   residents: Persons resident in the community as of as_of (person history).
--   households: Households registered in the community as of as_of (household history).
--   working_age_residents: Residents aged 16 to 59 on as_of.
--   employed_residents: Working-age residents with an employment spell running on as_of.
--   employment_rate: employed_residents / working_age_residents.
--   open_unemployment_claims: Claims of the community registered on or before as_of and not closed by then.
--   subsidised_households: Households with a housing subsidy running on as_of.
--   floor_area_per_person_m2: Floor area of the community's households' dwellings divided by their members.
--   overcrowded_households: Households with less than 15 m² of floor area per member.
--   clinic_encounters: Health encounters that started in the month, of residents of the community.
--   children_under_7: Residents younger than 7 on as_of.
--   immunized_children: Children under 7 with at least one immunization recorded on or before as_of.
--   immunization_coverage: immunized_children / children_under_7.
--   transit_stops: Bus stops in the community (GTFS zone_id); public timetable data, never suppressed.
--   stops_within_walk: Bus stops within 500 m (haversine) of the centroid of the community's own stops; public
--     timetable data, never suppressed; NULL on street and district rows.
--   boardings: Smart-card boardings in the month at the community's stops.
--   suppressed: Columns of this row withheld by disclosure control (comma-separated), NULL when none.
CREATE OR REPLACE TABLE marts_raw.community_month AS
WITH months AS (
    SELECT CAST(date_trunc('month', interval_start) AS DATE) AS month, max(interval_start) AS as_of
    FROM meta.ledger WHERE status = 'success' GROUP BY 1
), persons AS (
    SELECT m.month, m.as_of, p.person_key, p.community_code, date_sub('year', p.birth_date, m.as_of) AS age
    FROM months m JOIN std.person_history p
      ON p.valid_from <= m.as_of AND (p.valid_to IS NULL OR p.valid_to > m.as_of)
), employed AS (
    SELECT DISTINCT m.month, e.person_key FROM months m JOIN std.employment_spell e
      ON e.started_on <= m.as_of AND (e.ended_on IS NULL OR e.ended_on > m.as_of)
), immunized AS (
    SELECT DISTINCT m.month, i.person_key FROM months m JOIN std.immunization i ON i.occurred_on <= m.as_of
), encounters AS (
    SELECT m.month, e.person_key, count(*) AS n FROM months m JOIN std.health_encounter e
      ON e.started_at >= m.month AND e.started_at < m.month + INTERVAL 1 MONTH GROUP BY ALL
), people AS (
    SELECT p.month, p.community_code, count(*) AS residents,
           count(*) FILTER (WHERE p.age BETWEEN 16 AND 59) AS working_age_residents,
           count(em.person_key) FILTER (WHERE p.age BETWEEN 16 AND 59) AS employed_residents,
           count(*) FILTER (WHERE p.age < 7) AS children_under_7,
           count(im.person_key) FILTER (WHERE p.age < 7) AS immunized_children,
           coalesce(sum(en.n), 0) AS clinic_encounters,
           count(en.person_key) AS encounter_patients, max(en.n) AS top_encounters
    FROM persons p
    LEFT JOIN employed em ON em.month = p.month AND em.person_key = p.person_key
    LEFT JOIN immunized im ON im.month = p.month AND im.person_key = p.person_key
    LEFT JOIN encounters en ON en.month = p.month AND en.person_key = p.person_key
    GROUP BY ALL
), households AS (
    SELECT m.month, m.as_of, h.household_key, h.community_code, h.members, u.floor_area_m2
    FROM months m JOIN std.household_history h
      ON h.valid_from <= m.as_of AND (h.valid_to IS NULL OR h.valid_to > m.as_of)
    LEFT JOIN std.housing_unit u USING (address_key)
), subsidised AS (
    SELECT DISTINCT m.month, s.household_key FROM months m JOIN std.housing_subsidy s
      ON s.started_on <= m.as_of AND (s.ended_on IS NULL OR s.ended_on > m.as_of)
), homes AS (
    SELECT h.month, h.community_code, count(*) AS households,
           count(s.household_key) AS subsidised_households,
           CAST(sum(CAST(h.floor_area_m2 AS DECIMAL(18, 2))) FILTER (WHERE h.members > 0) AS DOUBLE) AS floor_area_m2,
           sum(h.members) FILTER (WHERE h.floor_area_m2 IS NOT NULL AND h.members > 0) AS members,
           count(*) FILTER (WHERE h.floor_area_m2 IS NOT NULL AND h.members > 0) AS households_with_area,
           max(h.floor_area_m2) FILTER (WHERE h.members > 0) AS top_floor_area_m2,
           count(*) FILTER (WHERE h.floor_area_m2 / h.members < 15) AS overcrowded_households
    FROM households h LEFT JOIN subsidised s ON s.month = h.month AND s.household_key = h.household_key
    GROUP BY ALL
), claims AS (
    SELECT m.month, c.community_code, count(*) AS open_unemployment_claims
    FROM months m JOIN std.unemployment_claim c
      ON c.registered_on <= m.as_of AND (c.closed_on IS NULL OR c.closed_on > m.as_of)
    GROUP BY ALL
), centroids AS (
    SELECT community_code, avg(lat) AS lat, avg(lon) AS lon FROM std.transit_stop GROUP BY ALL
), walk AS (
    SELECT c.community_code, count(s.stop_id) AS stops_within_walk
    FROM centroids c JOIN std.transit_stop s
      ON 2 * 6371008.8 * asin(sqrt(pow(sin(radians(s.lat - c.lat) / 2), 2)
         + cos(radians(c.lat)) * cos(radians(s.lat)) * pow(sin(radians(s.lon - c.lon) / 2), 2))) <= 500
    GROUP BY ALL
), stops AS (
    SELECT community_code, count(*) AS transit_stops FROM std.transit_stop GROUP BY ALL
), rides AS (
    SELECT m.month, s.community_code, sum(r.boardings) AS boardings
    FROM months m JOIN std.daily_ridership r
      ON r.service_date >= m.month AND r.service_date < m.month + INTERVAL 1 MONTH
    JOIN std.transit_stop s USING (stop_id)
    GROUP BY ALL
), cells AS (
    SELECT c.community_code, c.community_name, c.street_code, c.district_code, m.month, m.as_of,
           coalesce(p.residents, 0) AS residents,
           coalesce(h.households, 0) AS households,
           coalesce(p.working_age_residents, 0) AS working_age_residents,
           coalesce(p.employed_residents, 0) AS employed_residents,
           coalesce(o.open_unemployment_claims, 0) AS open_unemployment_claims,
           coalesce(h.subsidised_households, 0) AS subsidised_households,
           h.floor_area_m2, h.members,
           coalesce(h.households_with_area, 0) AS households_with_area, h.top_floor_area_m2,
           coalesce(h.overcrowded_households, 0) AS overcrowded_households,
           coalesce(p.clinic_encounters, 0) AS clinic_encounters,
           coalesce(p.encounter_patients, 0) AS encounter_patients, p.top_encounters,
           coalesce(p.children_under_7, 0) AS children_under_7,
           coalesce(p.immunized_children, 0) AS immunized_children,
           coalesce(st.transit_stops, 0) AS transit_stops,
           coalesce(w.stops_within_walk, 0) AS stops_within_walk,
           coalesce(r.boardings, 0) AS boardings
    FROM std.community c CROSS JOIN months m
    LEFT JOIN people p ON p.month = m.month AND p.community_code = c.community_code
    LEFT JOIN homes h ON h.month = m.month AND h.community_code = c.community_code
    LEFT JOIN claims o ON o.month = m.month AND o.community_code = c.community_code
    LEFT JOIN stops st ON st.community_code = c.community_code
    LEFT JOIN walk w ON w.community_code = c.community_code
    LEFT JOIN rides r ON r.month = m.month AND r.community_code = c.community_code
), totals AS (
    SELECT community_code, community_name, street_code, district_code,
           CASE WHEN grouping(community_code) = 0 THEN 'community' WHEN grouping(street_code) = 0 THEN 'street'
                ELSE 'district' END AS level,
           month, as_of,
           sum(residents)::BIGINT AS residents, sum(households)::BIGINT AS households,
           sum(working_age_residents)::BIGINT AS working_age_residents,
           sum(employed_residents)::BIGINT AS employed_residents,
           sum(open_unemployment_claims)::BIGINT AS open_unemployment_claims,
           sum(subsidised_households)::BIGINT AS subsidised_households,
           sum(floor_area_m2) AS floor_area_m2, sum(members)::BIGINT AS members,
           sum(households_with_area)::BIGINT AS households_with_area, max(top_floor_area_m2) AS top_floor_area_m2,
           sum(overcrowded_households)::BIGINT AS overcrowded_households,
           sum(clinic_encounters)::BIGINT AS clinic_encounters,
           sum(encounter_patients)::BIGINT AS encounter_patients, max(top_encounters) AS top_encounters,
           sum(children_under_7)::BIGINT AS children_under_7, sum(immunized_children)::BIGINT AS immunized_children,
           sum(transit_stops)::BIGINT AS transit_stops,
           CASE WHEN grouping(community_code) = 0 THEN max(stops_within_walk) END AS stops_within_walk,
           sum(boardings)::BIGINT AS boardings
    FROM cells
    GROUP BY GROUPING SETS ((month, as_of, district_code, street_code, community_code, community_name),
                            (month, as_of, district_code, street_code), (month, as_of, district_code))
)
SELECT community_code, community_name, street_code, district_code, level, month, as_of,
       residents, households, working_age_residents, employed_residents,
       round(employed_residents / nullif(working_age_residents, 0), 4) AS employment_rate,
       open_unemployment_claims, subsidised_households,
       round(floor_area_m2 / members, 2) AS floor_area_per_person_m2,
       overcrowded_households, clinic_encounters, children_under_7, immunized_children,
       round(immunized_children / nullif(children_under_7, 0), 4) AS immunization_coverage,
       transit_stops, stops_within_walk, boardings,
       floor_area_m2, households_with_area, top_floor_area_m2, encounter_patients, top_encounters
FROM totals;
