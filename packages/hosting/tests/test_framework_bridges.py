from agent_framework import Content
from agent_framework_hosting import content_name, data_content


def test_data_content_keeps_the_file_name_on_every_supported_version() -> None:
    content = data_content(b"%PDF-1.4", "application/pdf", name="report.pdf")
    assert isinstance(content, Content)
    assert content.media_type == "application/pdf"
    assert content_name(content) == "report.pdf"


def test_data_content_without_a_name_has_none() -> None:
    content = data_content(b"abc", "text/plain")
    assert content_name(content) is None
