from agent_framework import Content
from agent_framework_hosting import data_content


def test_data_content_keeps_the_file_name_on_every_supported_version() -> None:
    content = data_content(b"%PDF-1.4", "application/pdf", name="report.pdf")
    assert isinstance(content, Content)
    assert content.media_type == "application/pdf"
    named = getattr(content, "name", None) or (content.additional_properties or {}).get("name")
    assert named == "report.pdf"


def test_data_content_without_a_name_has_none() -> None:
    content = data_content(b"abc", "text/plain")
    assert getattr(content, "name", None) is None
    assert "name" not in (content.additional_properties or {})
