"""The imports of `manage.py seed_demo`: the studio's old Mailchimp audience, its three CSVs as
Mailchimp's export zip has them (the real headers), imported with "Subscribe to marketing emails"
ticked. The subscribed list has rows it had to skip, and the status rules at work (Arjun, who opted
out, stays unsubscribed; Maya, subscribed, stays so and gets the list's tags). The unsubscribed and
cleaned lists then lower the people who left Mailchimp (Tom opted out, Yuki's address bounced), each
with the date Mailchimp recorded, and add one the admin had unsubscribed there."""

from django.core.files.base import ContentFile

from contacts.imports import services
from creatorhub import audit
from creatorhub.tenancy import site_scope

HEAD = (
    '"Email Address","First Name","Last Name","Phone Number",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,'
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,"
)
TAIL = "LEID,EUID,NOTES,TAGS\n"
SUBSCRIBED = (
    HEAD
    + "LAST_CHANGED,"
    + TAIL
    + '"maya.fernandes@example.org",Maya,Fernandes,"+351 912 345 678",5,"2024-03-02 09:14:00",'
    '198.51.100.21,"2024-03-02 09:16:40",198.51.100.21,,,,,,pt,,"2024-03-02 09:16:40",101,a1,,'
    '"""Retreat 2024"""\n'
    '"arjun.patel@example.org",Arjun,Patel,,3,"2024-03-05 18:40:00",,"2024-03-05 18:40:00",,,,,,,,,'
    '"2024-03-05 18:40:00",102,a2,,"""Retreat 2024"""\n'
    '"ines.costa@example.org",Inês,Costa,"+351 913 222 111",4,"2024-04-11 07:55:00",,"2024-04-11 07:58:00",'
    ',,,,,,,,"2024-04-11 07:58:00",103,a3,,"""Retreat 2024"",""Morning"""\n'
    '"tom.becker@example.org",Tom,Becker,,2,"2024-05-20 12:00:00",,"2024-05-20 12:00:00",,,,,,,,,'
    '"2024-05-20 12:00:00",104,a4,,\n'
    '"priya.nair@example",Priya,Nair,,2,"2024-05-21 12:00:00",,,,,,,,,,,"2024-05-21 12:00:00",105,a5,,\n'
    '"yuki.tanaka@example.org",Yuki,Tanaka,,4,"2024-06-02 16:30:00",,"2024-06-02 16:31:00",,,,,,,,,'
    '"2024-06-02 16:31:00",106,a6,,"""Morning"""\n'
    '"INES.COSTA@example.org",Inês,C.,,1,"2024-06-03 10:00:00",,,,,,,,,,,"2024-06-03 10:00:00",107,a7,,\n'
    '"",Nameless,Row,,1,"2024-06-04 10:00:00",,,,,,,,,,,"2024-06-04 10:00:00",108,a8,,\n'
)
UNSUBSCRIBED = (
    HEAD
    + "UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER,"
    + TAIL
    + '"tom.becker@example.org",Tom,Becker,,2,"2024-05-20 12:00:00",,"2024-05-20 12:00:00",,,,,,,,,'
    '"2024-09-14 08:12:00","September retreat news",c9a1,'
    '"I no longer want to receive these emails",,104,a4,,\n'
    '"leah.cohen@example.org",Leah,Cohen,,1,"2023-01-10 10:00:00",,"2023-01-10 10:00:00",,,,,,,,,'
    '"2023-11-02 17:45:00",,,"N/A (Unsubscribed by an admin)",,109,a9,,\n'
)
CLEANED = (
    HEAD
    + "CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID,"
    + TAIL
    + '"yuki.tanaka@example.org",Yuki,Tanaka,,4,"2024-06-02 16:30:00",,"2024-06-02 16:31:00",,,,,,,,,'
    '"2024-10-01 06:00:00","October retreat news",c9b2,106,a6,,"""Morning"""\n'
)
FILES = (
    ("subscribed_members_export_7f3a2c.csv", SUBSCRIBED),
    ("unsubscribed_members_export_7f3a2c.csv", UNSUBSCRIBED),
    ("cleaned_members_export_7f3a2c.csv", CLEANED),
)


def seed(site, *, owner, stdout) -> None:
    for name, text in FILES:
        with site_scope(site), audit.acting(user=owner):  # the owner starts it (the audit log says so)
            imp = services.upload_import(
                site,
                file=ContentFile(text.encode(), name=name),
                subscribe=True,
                consent="Subscribed to the studio's Mailchimp newsletter (double opt-in)",
                tags=["Mailchimp"],
                by=services.Importer(user=owner),
            )
            services.start_import(site, contact_import=imp, queue=False)
            imp = services.run_import(site, contact_import=imp)
        stdout.write(
            f"  an import of {imp.total} rows ({name}) on {site.name}: {imp.created_count} created, "
            f"{imp.updated_count} updated, {imp.skipped_count} skipped"
        )
