"""Dashboard pages of the audience app, mounted under /app/<site>/."""

from django.urls import path

from audience.views import bulk, contact, exports, grants, segments, tab

urlpatterns = [
    path("contacts/", tab.ContactListView.as_view(), name="contacts"),
    path("contacts/count/", tab.CountView.as_view(), name="contacts-count"),
    path("contacts/builder/", tab.BuilderView.as_view(), name="contacts-builder"),
    path("contacts/bulk/<slug:kind>/", bulk.BulkStartView.as_view(), name="contacts-bulk"),
    path("contacts/actions/<int:pk>/", bulk.BulkActionView.as_view(), name="bulk-action"),
    path("contacts/segments/new/", segments.SegmentCreateView.as_view(), name="segment-create"),
    path("contacts/segments/<int:pk>/", segments.SegmentEditView.as_view(), name="segment-edit"),
    path("contacts/segments/<int:pk>/delete/", segments.SegmentDeleteView.as_view(), name="segment-delete"),
    path("contacts/<int:pk>/", contact.ContactDetailView.as_view(), name="contact-detail"),
    path("contacts/<int:pk>/subscribe/", contact.ContactSubscribeView.as_view(), name="contact-subscribe"),
    path("offers/<int:pk>/grant/", grants.OfferGrantView.as_view(), name="offer-grant"),
    path("exports/", exports.ExportListView.as_view(), name="exports"),
    path("exports/new/", exports.ExportCreateView.as_view(), name="export-create"),
    path("exports/<int:pk>/", exports.ExportDetailView.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", exports.ExportDownloadView.as_view(), name="export-download"),
]
