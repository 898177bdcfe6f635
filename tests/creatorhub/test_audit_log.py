"""The audit log: grants, revokes, deletes, imports, exports, the team's status changes,
template edits, API keys, the team and support's visits — who, what, when and from where; shown to
owners (support's own entries to support too); append-only."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from audience.services import bulk_actions
from contacts import services as contact_services
from contacts.models import ConsentSource
from creatorhub import audit, services
from creatorhub.models import ActorKind, AppendOnly, AuditAction, AuditEntry
from creatorhub.paging import PAGE_SIZE
from creatorhub.roles import Role
from emails import services as email_services
from emails.models import EmailKind
from offers.services import access as access_services
from offers.services import catalog
from tests.factories import ContactFactory, UserFactory
from usage.models import OverageCase
from usage.services import change_case

pytestmark = pytest.mark.django_db

BROWSER = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Mozilla/5.0 (Audit test)"}


def api(site, rest=""):
    return f"/api/v1/sites/{site.slug}/{rest}"


def entries(site, **filters) -> list[AuditEntry]:
    with scope(site=site):
        return list(AuditEntry.objects.filter(**filters).select_related("actor_user", "actor_api_key"))


@pytest.fixture
def offer(site):
    with scope(site=site):
        return catalog.create_offer(site, title="Yoga Basics Course", price=49, currency="USD")


@pytest.fixture
def contacts(site):
    with scope(site=site):
        return [ContactFactory(site=site, email=f"person{n}@example.net") for n in range(3)]


@pytest.fixture
def support_user():
    user = UserFactory(email="sam@support.example", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="support", content_type__app_label="creatorhub")
    )
    return user


@pytest.fixture
def case(site):
    with scope(site=site):
        day = timezone.localdate()
        return OverageCase.objects.create(
            site=site,
            opened_on=day,
            last_over_on=day,
            active_customers=1_050,
            peak_active_customers=1_050,
            active_customer_limit=1_000,
        )


# -- Who, what, when and from where ----------------------------------------------------------------------


def test_granting_an_offer_writes_who_what_when_and_from_where(as_user, site, owner, offer, contacts):
    before = timezone.now()
    response = as_user(owner).post(
        api(site, f"offers/{offer.pk}/grants/"),
        {"contact_ids": [contacts[0].pk, contacts[1].pk]},
        format="json",
        **BROWSER,
    )
    assert response.status_code == 201, response.content

    (entry,) = entries(site)
    assert entry.action == AuditAction.GRANT_REQUESTED
    assert (entry.actor_kind, entry.actor_user, entry.actor_label) == (ActorKind.TEAM, owner, owner.email)
    assert (entry.target_type, entry.target_id, entry.target_label) == ("offer", offer.pk, offer.title)
    assert entry.changes["contacts"] == [contacts[0].pk, contacts[1].pk]
    assert entry.changes["asked"] == 2
    assert (entry.ip, entry.user_agent) == ("203.0.113.7", "Mozilla/5.0 (Audit test)")
    assert before <= entry.created_at <= timezone.now()


def test_an_api_keys_grant_and_purchase_name_the_key(api_client, site, owner, offer, contacts):
    with scope(site=site):
        key, secret = services.create_api_key(site, name="Checkout", role=Role.ADMIN, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    granted = api_client.post(api(site, f"offers/{offer.pk}/grants/"), {"contact_ids": [contacts[0].pk]})
    bought = api_client.post(
        api(site, "purchases/"),
        {
            "offer": offer.pk,
            "email": "buyer@example.net",
            "amount": "49.00",
            "currency": "USD",
            "idempotency_key": "order-1",
        },
        format="json",
    )
    assert (granted.status_code, bought.status_code) == (201, 201), (granted.content, bought.content)

    purchase, grant, created = entries(site)  # newest first
    assert (created.action, created.actor_user) == (AuditAction.API_KEY_CREATED, owner)
    for entry in (grant, purchase):
        assert (entry.actor_kind, entry.actor_api_key, entry.actor_user) == (ActorKind.API_KEY, key, None)
        assert entry.actor_label == f"API key “Checkout” ({key.prefix}…)"
    assert grant.action == AuditAction.GRANT_REQUESTED
    assert purchase.action == AuditAction.PURCHASE_RECORDED
    assert "buyer@example.net" not in json.dumps(purchase.changes)


def test_rolled_back_grant_leaves_no_audit_row(site, offer, contacts, owner, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the outbox is broken")

    monkeypatch.setattr(access_services, "send_automated", broken)
    with scope(site=site), pytest.raises(RuntimeError):
        access_services.grant_offer(
            site, offer=offer, contact=contacts[0], by=access_services.Granter(user=owner)
        )
    assert entries(site) == []
    with scope(site=site):
        assert not contacts[0].accesses.exists()


def test_revoking_is_audited_once_for_many_contacts(as_user, site, owner, offer, contacts):
    with scope(site=site), audit.quiet():
        for contact in contacts:
            access_services.grant_offer(site, offer=offer, contact=contact)
    response = as_user(owner).post(
        api(site, f"offers/{offer.pk}/revocations/"), {"contact_ids": [c.pk for c in contacts]}, format="json"
    )
    assert response.json() == {"revoked": 3}
    (entry,) = entries(site)
    assert entry.action == AuditAction.OFFER_REVOKED
    assert (entry.changes["count"], sorted(entry.changes["contacts"])) == (3, [c.pk for c in contacts])


def test_deleting_a_contact_keeps_the_entry_but_not_their_email(as_user, site, admin, contacts):
    gone = contacts[0]
    assert as_user(admin).delete(api(site, f"contacts/{gone.pk}/")).status_code == 204
    (entry,) = entries(site)
    assert entry.action == AuditAction.CONTACT_DELETED
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "contact",
        gone.pk,
        f"contact #{gone.pk}",
    )
    assert gone.email not in json.dumps([entry.target_label, entry.changes, entry.actor_label])
    assert gone.name not in json.dumps([entry.target_label, entry.changes])


def test_a_bulk_delete_is_one_entry_not_one_per_contact(
    site, admin, contacts, django_capture_on_commit_callbacks
):
    with scope(site=site), django_capture_on_commit_callbacks(execute=True):
        bulk_actions.start_bulk_action(site, kind="delete", selection={"segment": "all"}, acting_user=admin)
    (entry,) = entries(site)
    assert entry.action == AuditAction.BULK_ACTION_STARTED
    assert (entry.actor_user, entry.changes["kind"], entry.changes["count"]) == (admin, "delete", 3)
    assert entry.changes["selection"] == "the segment “All”"


def test_a_grant_to_a_segment_is_one_entry(
    as_user, site, owner, offer, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(
            api(site, f"offers/{offer.pk}/grants/"), {"segment": "all"}, format="json"
        )
    assert response.status_code == 202, response.content
    (entry,) = entries(site)
    assert entry.action == AuditAction.GRANT_REQUESTED
    assert entry.changes["to"] == "the segment “All”"
    assert entry.changes["asked"] == 3


def test_the_teams_status_change_is_audited_the_persons_own_is_not(as_user, site, admin, contacts):
    person = contacts[0]
    response = as_user(admin).post(api(site, f"contacts/{person.pk}/unsubscribe/"), {"reason": "manual"})
    assert response.status_code == 200, response.content
    with scope(site=site):
        contact_services.subscribe(
            site, contact=contacts[1], by=contact_services.Consent(source=ConsentSource.FORM, note="form")
        )
    (entry,) = entries(site)
    assert (entry.action, entry.actor_user, entry.target_id) == (
        AuditAction.SUBSCRIPTION_CHANGED,
        admin,
        person.pk,
    )
    assert entry.changes["subscription_status"] == {"old": "never_subscribed", "new": "unsubscribed"}
    assert entry.changes["unsubscribe_reason"] == {"old": None, "new": "manual"}


def test_template_edits_and_restores_keep_the_old_and_new_subject(site, admin):
    kind = EmailKind.OFFER_GRANT_CONFIRMATION
    with scope(site=site), audit.acting(user=admin):
        email_services.save_template(
            site,
            kind=kind,
            subject="Welcome in",
            body_text="Hi {{ contact.name }}",
            body_html="<p>Hi</p>",
            acting_user=admin,
        )
        email_services.restore_default(site, kind=kind)
        assert email_services.restore_default(site, kind=kind) is False  # nothing to restore: no entry
    restored, edited = entries(site)
    assert (edited.action, edited.actor_user, edited.changes["subject"]["new"]) == (
        AuditAction.TEMPLATE_EDITED,
        admin,
        "Welcome in",
    )
    assert restored.action == AuditAction.TEMPLATE_RESTORED
    assert restored.changes["subject"] == {"old": "Welcome in", "new": None}


def test_keys_and_the_team_are_audited_through_the_pages(client, site, owner, admin):
    client.force_login(owner)
    client.post(f"/app/{site.slug}/settings/api-keys/", {"name": "Zapier", "role": "admin"}, **BROWSER)
    with scope(site=site):
        membership = admin.memberships.get()
    client.post(f"/app/{site.slug}/settings/team/{membership.pk}/role/", {"role": "assistant"}, **BROWSER)
    role, key = entries(site)
    assert (key.action, key.ip, key.changes) == (
        AuditAction.API_KEY_CREATED,
        "203.0.113.7",
        {"role": "admin"},
    )
    assert key.target_label.startswith("Zapier (")
    assert role.action == AuditAction.MEMBER_ROLE_CHANGED
    assert (role.target_label, role.changes) == (admin.email, {"role": {"old": "admin", "new": "assistant"}})


def test_an_invitation_revoked_and_one_accepted_are_audited(site, owner):
    with scope(site=site), audit.acting(user=owner):
        dropped, _ = services.invite_member(site, email="old@example.net", role="admin", acting_user=owner)
        services.revoke_invitation(site, invitation=dropped)
        kept, _ = services.invite_member(site, email="new@example.net", role="assistant", acting_user=owner)
    newcomer = UserFactory(email="new@example.net")
    with scope(site=site):
        services.accept_invitation(invitation=kept, user=newcomer)
    joined, invited, revoked, _ = entries(site)
    assert (revoked.action, revoked.target_label, revoked.actor_user) == (
        AuditAction.INVITATION_REVOKED,
        "old@example.net",
        owner,
    )
    assert invited.action == AuditAction.MEMBER_INVITED
    assert (joined.action, joined.actor_user, joined.changes) == (
        AuditAction.MEMBER_JOINED,
        newcomer,
        {"role": "assistant", "invited_by": owner.email},
    )


def test_starting_an_import_and_an_export_is_audited(
    as_user, site, admin, contacts, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(admin)
    upload = SimpleUploadedFile("people.csv", b"email,name\nnew@example.net,New\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        imported = client.post(api(site, "imports/"), {"file": upload, "subscribe": "false"})
        exported = client.post(api(site, "exports/"), {"segment": "all", "search": "person1"}, format="json")
    assert (imported.status_code, exported.status_code) == (202, 202), (imported.content, exported.content)
    export, started = entries(site)
    assert (started.action, started.changes["file"]) == (AuditAction.IMPORT_STARTED, "people.csv")
    assert export.action == AuditAction.EXPORT_STARTED
    assert export.changes["selection"] == "the segment “All” matching “…”"  # no searched text kept


def test_a_name_or_email_filter_of_a_selection_is_not_kept(as_user, site, admin, contacts):
    searched = {"all": [{"field": "search", "op": "contains", "value": "ana@example.com"}]}
    response = as_user(admin).post(
        api(site, "bulk-actions/"), {"kind": "add_tag", "tag": "VIP", "filters": searched}, format="json"
    )
    assert response.status_code == 201, response.content
    (bulk,) = entries(site)
    assert "ana@example.com" not in str(bulk.changes)
    assert bulk.changes["selection"] == "the segment “All” where Name or email contains “…”"


# -- Append-only -----------------------------------------------------------------------------------------


def test_audit_entries_cannot_be_changed_or_deleted(site, owner):
    with scope(site=site), audit.acting(user=owner):
        entry = audit.record(site, AuditAction.API_KEY_CREATED, target_label="Zapier")
        entry.target_label = "something else"
        with pytest.raises(AppendOnly):
            entry.save()
        with pytest.raises(AppendOnly):
            entry.delete()
        with pytest.raises(AppendOnly):
            AuditEntry.objects.filter(pk=entry.pk).update(target_label="changed")
        with pytest.raises(AppendOnly):
            AuditEntry.objects.all().delete()
        assert AuditEntry.objects.get().target_label == "Zapier"


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_an_audit_entry(site, owner):
    with scope(site=site), audit.acting(user=owner):
        entry = audit.record(site, AuditAction.API_KEY_CREATED, target_label="Zapier")
    for sql in (
        "UPDATE creatorhub_auditentry SET target_label = 'forged' WHERE id = %s",
        "UPDATE creatorhub_auditentry SET actor_user_id = NULL, action = 'x' WHERE id = %s",
        "DELETE FROM creatorhub_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            scope(site=site),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    # The one change allowed: a deleted user is forgotten (SET_NULL); the label stays.
    with scopes_disabled():
        owner.delete()
    (kept,) = entries(site)
    assert (kept.actor_user_id, kept.actor_label, kept.target_label) == (
        None,
        "owner@ana-yoga.example",
        "Zapier",
    )


# -- Who sees it -----------------------------------------------------------------------------------------


def test_the_owner_sees_the_log_page_newest_first_filtered_and_paged(client, site, owner, admin):
    with scope(site=site):
        with audit.acting(user=admin):
            for n in range(PAGE_SIZE + 1):
                audit.record(site, AuditAction.API_KEY_CREATED, target_label=f"key-{n:03}")
        with audit.acting(user=owner):
            audit.record(site, AuditAction.MEMBER_INVITED, target_label="friend@example.com")
    client.force_login(owner)
    page = client.get(f"/app/{site.slug}/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("friend@example.com") < text.index(f"key-{PAGE_SIZE:03}") < text.index("key-049")
    assert "key-000" not in text  # on the next page

    mine = client.get(f"/app/{site.slug}/audit/", {"actor": f"user:{admin.pk}", "action": "api_key_created"})
    rows = mine.context["entries"]
    assert len(rows) == PAGE_SIZE
    assert "friend@example.com" not in mine.content.decode()
    older = client.get(mine.context["next_url"]).context["entries"]
    assert [e.target_label for e in older] == ["key-000"]
    assert client.get(f"/app/{site.slug}/audit/", {"action": "nonsense"}).status_code == 400


def test_the_audit_log_tab_shows_to_owners_only(client, site, owner, admin):
    client.force_login(owner)
    assert f'href="/app/{site.slug}/audit/"' in client.get(f"/app/{site.slug}/").content.decode()
    client.force_login(admin)
    assert f'href="/app/{site.slug}/audit/"' not in client.get(f"/app/{site.slug}/").content.decode()


@pytest.mark.parametrize("role", ["admin", "assistant"])
def test_an_assistant_cannot_see_the_audit_log(client, as_user, site, role, request):
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.get(f"/app/{site.slug}/audit/").status_code == 403
    assert as_user(user).get(api(site, "audit-log/")).status_code == 403


def test_another_sites_audit_log_is_refused(client, as_user, site, other_site, owner, other_owner):
    with scope(site=site), audit.acting(user=owner):
        audit.record(site, AuditAction.API_KEY_CREATED, target_label="secret key")
    client.force_login(other_owner)
    assert client.get(f"/app/{site.slug}/audit/").status_code == 404
    assert as_user(other_owner).get(api(site, "audit-log/")).status_code == 404
    own = as_user(other_owner).get(api(other_site, "audit-log/"))
    assert (own.status_code, own.json()["results"]) == (200, [])


def test_the_api_lists_the_log_newest_first_with_filters_and_cursor(as_user, site, owner, admin):
    with scope(site=site):
        with audit.acting(user=admin):
            for name in ("one", "two", "three"):
                audit.record(site, AuditAction.API_KEY_CREATED, target_label=name)
        with audit.acting(user=owner):
            audit.record(site, AuditAction.MEMBER_INVITED, target_label="friend@example.com")
    client = as_user(owner)
    first = client.get(api(site, "audit-log/"), {"page_size": 3, "action": "api_key_created"}).json()
    assert [row["target"] for row in first["results"]] == ["three", "two", "one"]
    row = first["results"][0]
    assert (row["action"], row["actor_kind"], row["actor"], row["actor_user"]) == (
        "api_key_created",
        "team",
        admin.email,
        admin.pk,
    )
    paged = client.get(api(site, "audit-log/"), {"page_size": 2}).json()
    assert [row["target"] for row in paged["results"]] == ["friend@example.com", "three"]
    assert [r["target"] for r in client.get(paged["next"]).json()["results"]] == ["two", "one"]
    by_owner = client.get(api(site, "audit-log/"), {"actor": f"user:{owner.pk}"}).json()["results"]
    assert [r["target"] for r in by_owner] == ["friend@example.com"]
    assert client.get(api(site, "audit-log/"), {"action": "nonsense"}).status_code == 400
    assert client.post(api(site, "audit-log/"), {}).status_code == 405


# -- Support ---------------------------------------------------------------------------------------------


def test_support_viewing_a_site_is_audited_and_shown_to_owner(client, site, owner, support_user, case):
    client.force_login(support_user)
    assert client.get(f"/support/sites/{site.slug}/", **BROWSER).status_code == 200
    assert client.get(f"/support/cases/{case.pk}/", **BROWSER).status_code == 200
    viewed_case, viewed_site = entries(site)
    assert (viewed_site.action, viewed_site.actor_kind, viewed_site.actor_user) == (
        AuditAction.SUPPORT_SITE_VIEWED,
        ActorKind.SUPPORT,
        support_user,
    )
    assert (viewed_site.actor_label, viewed_site.ip) == ("sam@support.example (support)", "203.0.113.7")
    assert viewed_case.action == AuditAction.SUPPORT_CASE_VIEWED

    shown = client.get(f"/support/sites/{site.slug}/").content.decode()
    assert "Support viewed an overage case" in shown

    client.force_login(owner)
    page = client.get(f"/app/{site.slug}/audit/", {"actor": "support"}).content.decode()
    assert "sam@support.example (support)" in page
    assert "Support viewed the site&#x27;s usage" in page


def test_supports_case_change_through_the_api_is_audited(api_client, site, support_user, case):
    api_client.force_login(support_user)
    response = api_client.patch(
        f"/api/v1/support/cases/{case.pk}/", {"status": "contacted", "note": "Emailed Ana."}, format="json"
    )
    assert response.status_code == 200, response.content
    (entry,) = entries(site)
    assert entry.action == AuditAction.SUPPORT_CASE_CHANGED
    assert (entry.actor_kind, entry.actor_user) == (ActorKind.SUPPORT, support_user)
    assert entry.changes == {"status": {"old": "open", "new": "contacted"}, "note_added": True}


def test_a_case_change_outside_a_request_still_names_support(site, support_user, case):
    with scope(site=site):
        change_case(site, case=case, acting_user=support_user, note="Called Ana.")
    (entry,) = entries(site)
    assert (entry.actor_kind, entry.actor_label) == (ActorKind.SUPPORT, "sam@support.example (support)")
