import duckdb
import pytest

from standards.codelists import codelist, crosswalk
from standards.data_dictionary import data_dictionary
from standards.ddl import HISTORY_COLUMNS, LINEAGE_COLUMNS, all_ddl
from standards.entity import (DISCLOSURE_CLASSES, GENERALIZATIONS, LINEAGE_FIELDS, VERSION_FIELDS, entities,
                              load_entity)
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


def test_every_field_of_every_entity_declares_a_disclosure_class():
    for e in entities().values():
        for f in e.fields:
            assert f.disclosure in DISCLOSURE_CLASSES, f"{e.name}.{f.name}"
            assert bool(f.generalize) == (f.disclosure == "quasi"), f"{e.name}.{f.name}"
            assert set(f.generalize) <= set(GENERALIZATIONS)
    assert [f.name for f in LINEAGE_FIELDS] == list(LINEAGE_COLUMNS)
    assert [f.name for f in VERSION_FIELDS] == list(HISTORY_COLUMNS)
    person = entities()["person"]
    assert person.field("birth_date").disclosure == "quasi" and person.field("grid_code").generalize == ("drop",)
    assert person.field("person_key").disclosure == "pseudonym"
    assert entities()["health_encounter"].field("encounter_id").disclosure == "direct"


@pytest.mark.parametrize("extra, message", [
    ("", "declares no disclosure class"),
    ("    disclosure: secret\n", "unknown disclosure class 'secret'"),
    ("    disclosure: quasi\n    generalize: decade\n", "unknown generalization 'decade'"),
    ("    disclosure: quasi\n    generalize: street\n", "'street' does not apply to a date field"),
    ("    disclosure: quasi\n", "a quasi-identifier declares generalize"),
    ("    disclosure: public\n    generalize: year\n", "only a quasi-identifier declares generalize"),
    ("    disclosure: quasi\n    generalize: [drop, year]\n", "drop can only be the last"),
])
def test_a_wrong_disclosure_declaration_is_an_error_naming_the_file_and_field(tmp_path, extra, message):
    path = tmp_path / "thing.yaml"
    path.write_text("name: thing\nprimaryKey: [id]\nfields:\n  - name: id\n    type: string\n    disclosure: direct\n"
                    f"  - name: seen_on\n    type: date\n{extra}", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_entity(path)
    assert "standards/entities/thing.yaml: field 'seen_on'" in str(err.value)
    assert message in str(err.value)
