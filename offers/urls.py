"""Dashboard pages of the offers app, mounted under /app/<site>/."""

from django.urls import path

from offers import views

urlpatterns = [
    path("offers/", views.OfferListView.as_view(), name="offers"),
    path("offers/new/", views.OfferCreateView.as_view(), name="offer-create"),
    path("offers/<int:pk>/", views.OfferDetailView.as_view(), name="offer-detail"),
    path("offers/<int:pk>/edit/", views.OfferEditView.as_view(), name="offer-edit"),
    path("offers/<int:pk>/archive/", views.OfferArchiveView.as_view(), name="offer-archive"),
    path("offers/<int:pk>/restore/", views.OfferRestoreView.as_view(), name="offer-restore"),
    path("offers/<int:pk>/revoke/", views.OfferRevokeView.as_view(), name="offer-revoke"),
    path(
        "offers/<int:pk>/accesses/<int:access_pk>/revoke/",
        views.AccessRevokeView.as_view(),
        name="access-revoke",
    ),
    path("grant-jobs/<int:pk>/", views.GrantJobView.as_view(), name="grant-job"),
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/new/", views.ProductCreateView.as_view(), name="product-create"),
    path("products/<int:pk>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<int:pk>/lessons/", views.LessonAddView.as_view(), name="lesson-add"),
    path("products/<int:pk>/lessons/<int:lesson_pk>/", views.LessonEditView.as_view(), name="lesson-edit"),
    path(
        "products/<int:pk>/lessons/<int:lesson_pk>/delete/",
        views.LessonDeleteView.as_view(),
        name="lesson-delete",
    ),
]
