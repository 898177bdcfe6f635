"""A finished import for `manage.py seed_demo`: the studio's old Mailchimp list, with "Subscribe to
marketing emails" ticked, some rows it had to skip, and SPEC §2's rules at work (Arjun, who opted out,
stays unsubscribed; Maya, subscribed, stays so and gets the list's tags)."""

from django.core.files.base import ContentFile

from contacts.imports import services
from creatorhub import audit
from creatorhub.tenancy import site_scope

MAILCHIMP_EXPORT = (
    '"Email Address","First Name","Last Name","Phone Number","MEMBER_RATING","OPTIN_TIME","LEID","TAGS"\n'
    '"maya.fernandes@example.org","Maya","Fernandes","+351 912 345 678","5","2024-03-02 09:14:00","101",'
    '"""Retreat 2024"""\n'
    '"arjun.patel@example.org","Arjun","Patel","","3","2024-03-05 18:40:00","102","""Retreat 2024"""\n'
    '"ines.costa@example.org","Inês","Costa","+351 913 222 111","4","2024-04-11 07:55:00","103",'
    '"""Retreat 2024"",""Morning"""\n'
    '"tom.becker@example.org","Tom","Becker","","2","2024-05-20 12:00:00","104",""\n'
    '"priya.nair@example","Priya","Nair","","2","2024-05-21 12:00:00","105",""\n'
    '"yuki.tanaka@example.org","Yuki","Tanaka","","4","2024-06-02 16:30:00","106","""Morning"""\n'
    '"INES.COSTA@example.org","Inês","C.","","1","2024-06-03 10:00:00","107",""\n'
    '"","Nameless","Row","","1","2024-06-04 10:00:00","108",""\n'
)


def seed(site, *, owner, stdout) -> None:
    with site_scope(site), audit.acting(user=owner):  # the owner starts it (the audit log says so)
        imp = services.upload_import(
            site,
            file=ContentFile(MAILCHIMP_EXPORT.encode(), name="ana-yoga-mailchimp-2024.csv"),
            subscribe=True,
            consent="Subscribed to the studio's Mailchimp newsletter (double opt-in)",
            tags=["Mailchimp"],
            by=services.Importer(user=owner),
        )
        services.start_import(site, contact_import=imp, queue=False)
        imp = services.run_import(site, contact_import=imp)
    stdout.write(
        f"  an import of {imp.total} rows on {site.name}: {imp.created_count} created, "
        f"{imp.updated_count} updated, {imp.skipped_count} skipped"
    )
