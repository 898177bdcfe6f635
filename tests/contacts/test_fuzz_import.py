"""Issue 7 (5): the CSV importer fuzzed with hypothesis, through the API (`POST imports/`) and the pages
(upload, the check of the columns with its preview, start). Random bytes; CSV-like text made of emails,
names, tags, quotes (balanced or not), NUL, CR, CRLF and lone CR line ends, comma, semicolon or tab,
Excel's `sep=` line, written in UTF-8, UTF-8 with a BOM, UTF-16, Latin-1 or Windows-1252, then perhaps
cut short or with random bytes spliced in; and huge files (a 1 MB cell, a 1 MB header, thousands of
columns). The properties:

- never a 500: the upload answers 202 (the API) or a redirect to the check page, or a 400 with a clear
  message; the check page shows;
- an import that starts finishes `done` with its counts adding up (total = created + updated +
  skipped) and every skipped row in the report with its row number (1 or more) and a message;
- never half-written: an upload refused leaves no import, and any import that does not finish leaves
  the contacts, tags and consent events exactly as they were.

Every example runs in a savepoint that is rolled back, so each starts from the same site (a contact
with a tag, an unsubscribed contact). Budget: FUZZ_MAX_EXAMPLES overrides each test's number of examples;
derandomized, so a run is repeatable.
"""

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django_scopes import scope
from hypothesis import given
from hypothesis import strategies as st

from contacts import services as contact_services
from contacts.models import ConsentEvent, ConsentSource, Contact, ContactTag, Import, Tag, UnsubscribeReason
from contacts.services import Consent
from tests.factories import ContactFactory
from tests.support.fuzzing import budget


@pytest.fixture
def people(site):
    """What every example starts from: a tagged contact and one who unsubscribed."""
    with scope(site=site):
        ana = ContactFactory(site=site, email="ana@example.com", name="Ana")
        contact_services.add_tags(site, contact=ana, names=["VIP"])
        ben = ContactFactory(site=site, email="ben@example.com", name="Ben")
        contact_services.unsubscribe(
            site, contact=ben, reason=UnsubscribeReason.OPTED_OUT, by=Consent(source=ConsentSource.LINK)
        )
    return ana, ben


@pytest.fixture
def api(as_user, admin, people):
    return as_user(admin)


@pytest.fixture
def browser(admin, people):
    client = Client()
    client.force_login(admin)
    return client


def snapshot(site) -> tuple:
    """Every row an import may write, as it is."""
    with scope(site=site):
        return (
            sorted(
                Contact.objects.values_list(
                    "email", "name", "fields", "subscription_status", "unsubscribe_reason"
                )
            ),
            sorted(Tag.objects.values_list("name", flat=True)),
            sorted(ContactTag.objects.values_list("contact__email", "tag__name")),
            ConsentEvent.objects.count(),
        )


# -- Strategies -----------------------------------------------------------------------------------------

EMAILS = st.sampled_from(
    ["ana@example.com", "ANA@example.com", "ben@example.com", "new@example.com", "x@y", "no", " c@d.org "]
) | st.integers(0, 30).map(lambda n: f"p{n}@example.com")
CELL = st.one_of(
    EMAILS,
    st.text(max_size=25),
    st.sampled_from(["", " ", '"', '""', 'a"b', '"x', "\x00", "a\x00b", "\r", "\n", "\r\n", "é", "ß", "€"]),
    st.sampled_from(["😀", "\ufffd", "sep=;", "=1+1", "Yoga, Pilates", "x" * 300, "é" * 1200]),
)
HEADER = st.one_of(
    st.sampled_from(
        ["email", "Email Address", "E-mail", "name", "First Name", "Last Name", "tags", "labels"]
    ),
    st.sampled_from(["", " ", "email_address", "first_name", "member_rating", "LEID", "Téléphone", "a\x00b"]),
    st.text(max_size=12),
)
DELIMITERS = st.sampled_from([",", ";", "\t", "|"])
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"])
BOMS = st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])


@st.composite
def csv_like(draw) -> bytes:
    """A CSV file as people make them, or nearly: cells quoted or not (so quotes may not balance), rows
    of the header's width or not, any delimiter and line end, any encoding, perhaps damaged."""
    delimiter, end = draw(DELIMITERS), draw(LINE_ENDS)
    width = draw(st.integers(1, 6))

    def line(cells):
        out = []
        for cell in cells:
            if draw(st.booleans()):
                cell = '"' + cell.replace('"', '""') + '"'
            out.append(cell)
        return delimiter.join(out)

    lines = [] if draw(st.integers(0, 9)) else [f"sep={delimiter}"]
    if draw(st.integers(0, 4)):
        lines.append(line(draw(st.lists(HEADER, min_size=width, max_size=width))))
    for _ in range(draw(st.integers(0, 8))):
        cells = draw(st.lists(CELL, min_size=max(0, width - 1), max_size=width + 1))
        lines.append(line(cells))
    text = end.join(lines) + draw(st.sampled_from(["", end, end + end]))
    data = text.encode(draw(ENCODINGS), errors="replace")
    if draw(st.integers(0, 3)) == 0:  # bytes that are not text in any encoding, or a cut
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


FILENAMES = st.just("contacts.csv") | st.sampled_from(["a\x00b.csv", "é 😀.csv", "x" * 400 + ".csv", ".csv"])
RANDOM_BYTES = st.builds(lambda bom, body: bom + body, BOMS, st.binary(max_size=2000))


# -- The properties -------------------------------------------------------------------------------------


def url(site, rest=""):
    return f"/api/v1/sites/{site.slug}/imports/{rest}"


def upload_file(data: bytes, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def assert_clear_refusal(response, site, before) -> None:
    assert response.status_code == 400, response.content[:500]
    with scope(site=site):
        assert not Import.objects.exists()
    assert snapshot(site) == before


def assert_imported_whole(site, before) -> Import:
    """The one import of the example finished with a row-numbered report; else nothing changed."""
    with scope(site=site):
        imp = Import.objects.get()
        errors = list(imp.row_errors.values_list("row", "column", "message"))
    if imp.status != "done":
        assert snapshot(site) == before, "an import that did not finish changed contacts"
        pytest.fail(f"the import ended {imp.status}: {imp.failure}")
    assert imp.total == imp.created_count + imp.updated_count + imp.skipped_count
    assert len({row for row, _, _ in errors}) == imp.skipped_count
    assert all(row >= 1 and message for row, _, message in errors), errors
    return imp


def through_the_api(api, site, data: bytes, *, subscribe: bool, capture, name="contacts.csv") -> None:
    before = snapshot(site)
    body = {"file": upload_file(data, name)}
    if subscribe:
        body |= {"subscribe": "true", "consent": "Signed up at the workshop"}
    with transaction.atomic():
        with capture(execute=True):
            response = api.post(url(site), body)
        if response.status_code == 202:
            assert_imported_whole(site, before)
            detail = api.get(response.json()["url"])
            assert detail.status_code == 200
            assert detail.json()["status"] == "done"
        else:
            assert_clear_refusal(response, site, before)
            assert response.json()["message"]
        transaction.set_rollback(True)


def through_the_pages(browser, site, data: bytes, *, capture) -> None:
    before = snapshot(site)
    new = f"/app/{site.slug}/imports/new/"
    with transaction.atomic():
        response = browser.post(new, {"file": upload_file(data)})
        if response.status_code == 400:
            assert_clear_refusal(response, site, before)
            assert response.context["form"].errors
        else:
            assert response.status_code == 302, response.status_code
            check = browser.get(response["Location"])
            assert check.status_code == 200
            with scope(site=site):
                imp = Import.objects.get()
            mapping = {f"column_{n}": target for n, target in enumerate(imp.mapping)}
            with capture(execute=True):
                started = browser.post(f"{response['Location']}start/", mapping)
            if started.status_code == 400:  # no email column, too many custom fields: the page says so
                assert started.context["form"].non_field_errors()
                assert snapshot(site) == before
            else:
                assert started.status_code == 302
                assert_imported_whole(site, before)
                assert browser.get(started["Location"]).status_code == 200
        transaction.set_rollback(True)


@pytest.mark.slow
def test_random_bytes_are_refused_clearly_or_imported_whole(api, site, django_capture_on_commit_callbacks):
    @budget(80, large_data=True)
    @given(data=RANDOM_BYTES, subscribe=st.booleans())
    def property_holds(data, subscribe):
        through_the_api(api, site, data, subscribe=subscribe, capture=django_capture_on_commit_callbacks)

    property_holds()


@pytest.mark.slow
def test_csv_like_files_are_refused_clearly_or_imported_whole(api, site, django_capture_on_commit_callbacks):
    @budget(150, large_data=True)
    @given(data=csv_like(), subscribe=st.booleans(), name=FILENAMES)
    def property_holds(data, subscribe, name):
        capture = django_capture_on_commit_callbacks
        through_the_api(api, site, data, subscribe=subscribe, capture=capture, name=name)

    property_holds()


@pytest.mark.slow
def test_the_pages_take_any_file_to_a_clear_answer(browser, site, django_capture_on_commit_callbacks):
    @budget(60, large_data=True)
    @given(data=csv_like() | RANDOM_BYTES)
    def property_holds(data):
        through_the_pages(browser, site, data, capture=django_capture_on_commit_callbacks)

    property_holds()


MB = 1 << 20
HUGE = {
    "a 1 MB cell": b"email,note\nana@example.com," + b"x" * MB + b"\nnew@example.com,hi\n",
    "a 1 MB quoted cell": b'email,note\nana@example.com,"' + b"x" * MB + b'"\nnew@example.com,hi\n',
    "a 1 MB quote never closed": b'email,note\nnew@example.com,hi\nana@example.com,"' + b"x" * MB,
    "a 1 MB header": b"email," + b"h" * MB + b"\nana@example.com,x\n",
    "a 1 MB quoted header": b'email,"' + b"h" * MB + b'"\nana@example.com,x\n',
    "a 1 MB line of addresses": b",".join(b"p%d@example.com" % n for n in range(70_000)),
    "150 named columns, 149 custom fields": b"email,"
    + b",".join(b"c%d" % n for n in range(149))
    + b"\n"
    + b"a@b.co"
    + b",x" * 149
    + b"\n",
    "10,000 columns": b",".join(b"c%d" % n for n in range(10_000)) + b"\n",
    "201 columns": b"email," + b",".join(b"c%d" % n for n in range(200)) + b"\n" + b"a@b.co" + b"," * 200,
    "a 1 MB name in UTF-16": ("email,name\r\nnew@example.com," + "é" * MB).encode("utf-16"),
    "1 MB of NUL bytes": b"\x00" * MB,
    "1 MB of lone CRs": b"email\r" + b"\r" * MB + b"new@example.com\r",
    "a 1 MB cell of invalid UTF-8 in a UTF-8 file": "email,name\nnew@example.com,Zoë\n".encode()
    + b"ana@example.com,"
    + b"\xff\xfe" * (MB // 2)
    + b"\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("data", HUGE.values(), ids=HUGE.keys())
def test_huge_files_are_refused_clearly_or_imported_whole(
    api, browser, site, data, django_capture_on_commit_callbacks
):
    through_the_api(api, site, data, subscribe=False, capture=django_capture_on_commit_callbacks)
    through_the_pages(browser, site, data, capture=django_capture_on_commit_callbacks)
