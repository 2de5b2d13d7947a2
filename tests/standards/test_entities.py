import duckdb

from standards.codelists import codelist, crosswalk
from standards.data_dictionary import data_dictionary
from standards.ddl import all_ddl
from standards.entity import entities
from standards.rules import rules
from unsilo.settings import REPO


def test_every_entity_loads_with_a_primary_key_and_descriptions():
    ents = entities()
    assert len(ents) >= 14
    for e in ents.values():
        assert e.primary_key
        assert e.description
        for f in e.fields:
            assert f.description, f"{e.name}.{f.name} has no description"


def test_ddl_creates_every_table_in_duckdb():
    con = duckdb.connect()
    con.execute(all_ddl())
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='std'").fetchall()}
    history = {f"{e.name}_history" for e in entities().values() if e.history == "scd2"}
    assert {"person_history", "household_history", "address_history", "tenancy_history"} <= history
    assert tables == set(entities()) | history


def test_every_codelist_exists_and_crosswalks_point_into_it():
    for e in entities().values():
        for f in e.fields:
            if f.codelist:
                codes = codelist(f.codelist)
                assert codes
                for system in ("fhir", "employment", "housing"):
                    assert set(crosswalk(f.codelist, system).values()) <= set(codes)


def test_rules_cover_the_standard():
    person = entities()["person"]
    names = {(r.name, r.field) for r in rules(person)}
    assert ("id-check-digit", "person_key") in names
    assert ("unknown-code", "sex_code") in names
    assert ("required-missing", "birth_date") in names
    assert ("impossible-date", "birth_date") in names
    assert ("duplicate-key", "person_key") in names


def test_data_dictionary_is_generated_and_up_to_date():
    from warehouse.marts_dictionary import marts_dictionary

    text = data_dictionary() + marts_dictionary()
    for e in entities().values():
        assert f"`std.{e.name}`" in text
    for mart in ("marts.community_month", "marts.community_overview", "restricted.person_profile"):
        assert f"`{mart}`" in text
    assert "| `employment_rate` |" in text
    assert (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8") == text, "run `unsilo dictionary`"
