"""Generated Markdown sections are replaced in place, or appended under a heading."""

import pytest

from bargein.markers import replace_between, update_file


def test_replaces_only_the_section():
    text = "# T\n\nbefore\n<!-- x:begin -->\nold\n<!-- x:end -->\nafter\n"
    assert replace_between(text, "x", "new") == \
        "# T\n\nbefore\n<!-- x:begin -->\nnew\n<!-- x:end -->\nafter\n"


def test_missing_section_is_an_error_or_appended(tmp_path):
    with pytest.raises(ValueError, match="x:begin"):
        replace_between("# T\n", "x", "new")
    path = tmp_path / "README.md"
    path.write_text("# T\n")
    assert update_file(path, "x", "new", heading="## X")
    assert path.read_text() == "# T\n\n## X\n\n<!-- x:begin -->\nnew\n<!-- x:end -->\n"
    assert not update_file(path, "x", "new")  # unchanged: nothing written
