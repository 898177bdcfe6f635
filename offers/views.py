"""Dashboard pages of the offers app: offers, their holders and grants, grant jobs, products and lessons.

Every page runs inside the site's scope (creatorhub.tenancy.SitePageMixin): each id from the URL or a
form is looked up there, so another site's offer, product, lesson, access, job or contact is a 404.
Writes go through offers.services.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import patch_vary_headers
from django.views import View
from django.views.generic import TemplateView
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from contacts.models import Contact
from creatorhub.forms import add_domain_error
from creatorhub.paging import BadCursor, keyset_page
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin
from offers.errors import OfferError
from offers.forms import (
    GrantForm,
    LessonForm,
    NewProductForm,
    OfferForm,
    ProductForm,
    RevokeForm,
)
from offers.models import Access, GrantJob, JobStatus, Lesson, Offer, Product
from offers.selectors import describe_target, require_in_scope
from offers.services.access import revoke_access, revoke_offer
from offers.services.catalog import (
    add_lesson,
    archive_offer,
    create_offer,
    create_product,
    delete_lesson,
    restore_offer,
    update_lesson,
    update_offer,
    update_product,
)

HOLDERS_PAGE_SIZE = 50
RECENT_JOBS = 5


# -- Helpers ------------------------------------------------------------------------------------------


def count_of(queryset, field: str):
    """A per-row count of `queryset`'s rows whose `field` is the outer row, as a subquery: the scoped
    manager of `queryset` keeps the join on this site's rows (and `site_id` in the index)."""
    counts = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n")), 0)


# -- Offers -------------------------------------------------------------------------------------------


class OfferListView(SitePageMixin, TemplateView):
    template_name = "app/offers/list.html"
    scope_map = {"GET": Scope.OFFERS_READ}

    def get_context_data(self, **kwargs):
        offers = (
            Offer.objects.annotate(holders=count_of(Access.objects.filter(revoked_at=None), "offer"))
            .prefetch_related("products")
            .order_by("-created_at", "-id")
        )
        return super().get_context_data(offers=offers, **kwargs)


class OfferCreateView(SitePageMixin, TemplateView):
    template_name = "app/offers/edit.html"
    scope_map = {"GET": Scope.OFFERS_WRITE, "POST": Scope.OFFERS_WRITE}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", OfferForm(products=Product.objects.all()))
        return super().get_context_data(**kwargs)

    def post(self, request, site):
        require_in_scope(Product.objects.all(), request.POST.getlist("products"))
        form = OfferForm(request.POST, products=Product.objects.all())
        if form.is_valid():
            try:
                offer = create_offer(request.site, **form.service_arguments())
            except OfferError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Created the offer “{offer.title}”.")
                return redirect("offer-detail", site=site, pk=offer.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class OfferEditView(SitePageMixin, TemplateView):
    template_name = "app/offers/edit.html"
    scope_map = {"GET": Scope.OFFERS_WRITE, "POST": Scope.OFFERS_WRITE}

    def get(self, request, site, pk):
        offer = get_object_or_404(Offer, pk=pk)
        form = OfferForm(initial=OfferForm.initial_from(offer), products=Product.objects.all())
        return self.render_to_response(self.get_context_data(offer=offer, form=form))

    def post(self, request, site, pk):
        offer = get_object_or_404(Offer, pk=pk)
        require_in_scope(Product.objects.all(), request.POST.getlist("products"))
        form = OfferForm(request.POST, products=Product.objects.all())
        if form.is_valid():
            try:
                update_offer(request.site, offer=offer, **form.service_arguments())
            except OfferError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved the offer “{offer.title}”.")
                return redirect("offer-detail", site=site, pk=offer.pk)
        offer.refresh_from_db()
        return self.render_to_response(self.get_context_data(offer=offer, form=form), status=400)


class OfferArchiveView(SitePageMixin, View):
    scope_map = {"POST": Scope.OFFERS_WRITE}

    def post(self, request, site, pk):
        offer = get_object_or_404(Offer, pk=pk)
        archive_offer(request.site, offer=offer)
        messages.success(
            request,
            f"Archived the offer “{offer.title}”: it can no longer be granted or bought; "
            "those who hold it keep it.",
        )
        return redirect("offer-detail", site=site, pk=offer.pk)


class OfferRestoreView(SitePageMixin, View):
    scope_map = {"POST": Scope.OFFERS_WRITE}

    def post(self, request, site, pk):
        offer = get_object_or_404(Offer, pk=pk)
        restore_offer(request.site, offer=offer)
        messages.success(request, f"Restored the offer “{offer.title}”: it can be granted and bought again.")
        return redirect("offer-detail", site=site, pk=offer.pk)


class OfferPage(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """The offer page: the offer, its products, its holders (revoke) and the grant form. Its actions
    subclass it to render it again, with status 400, when their input is refused."""

    template_name = "app/offers/detail.html"

    def get_context_data(self, *, offer, **kwargs):
        live = Access.objects.filter(offer=offer, revoked_at=None)
        rows = live.select_related("contact", "granted_by", "granted_by_api_key", "purchase")
        before = self.request.GET.get("before", "") if self.request.method == "GET" else ""
        try:
            holders, next_cursor = keyset_page(rows, cursor=before, size=HOLDERS_PAGE_SIZE)
        except BadCursor:
            messages.error(self.request, "This page link is not valid: here are the newest holders.")
            holders, next_cursor = keyset_page(rows, size=HOLDERS_PAGE_SIZE)
            before, kwargs["bad_cursor"] = "", True
        kwargs.setdefault("bad_cursor", False)
        kwargs.setdefault("grant_form", GrantForm(contacts=Contact.objects.all()))
        return super().get_context_data(
            offer=offer,
            products=list(offer.products.order_by("title")),
            holders=holders,
            holders_count=live.count(),
            first_url=self.request.path if before else None,
            next_url=f"{self.request.path}?{urlencode({'before': next_cursor})}" if next_cursor else None,
            recent_jobs=GrantJob.objects.filter(offer=offer).select_related(
                "created_by", "created_by_api_key"
            )[:RECENT_JOBS],
            **kwargs,
        )

    def render_offer(self, offer, *, status=200, **kwargs):
        context = self.get_context_data(offer=offer, **kwargs)
        return self.render_to_response(context, status=400 if context["bad_cursor"] else status)


class OfferDetailView(OfferPage):
    scope_map = {"GET": Scope.OFFERS_READ}

    def get(self, request, site, pk):
        return self.render_offer(get_object_or_404(Offer, pk=pk))


class OfferRevokeView(OfferPage):
    """Revoke selected: ends the accesses of the selected contacts to this offer; sends nothing."""

    scope_map = {"POST": Scope.OFFERS_GRANT}

    def post(self, request, site, pk):
        offer = get_object_or_404(Offer, pk=pk)
        require_in_scope(Contact.objects.all(), request.POST.getlist("contact_ids"))
        form = RevokeForm(request.POST, contacts=Contact.objects.all())
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return self.render_offer(offer, status=400)
        contacts = form.cleaned_data["contact_ids"]
        ended = revoke_offer(
            request.site, offer=offer, contacts_ids=[c.pk for c in contacts], acting_user=request.user
        )
        if ended:
            who = contacts[0].email if len(contacts) == 1 else f"{ended} contact{'s' if ended != 1 else ''}"
            messages.success(request, f"Revoked “{offer.title}” from {who}. Nothing was sent.")
        else:
            messages.info(request, f"None of the selected contacts held “{offer.title}”.")
        return redirect("offer-detail", site=site, pk=offer.pk)


class AccessRevokeView(SitePageMixin, View):
    """The "Revoke" button of one holder."""

    scope_map = {"POST": Scope.OFFERS_GRANT}

    def post(self, request, site, pk, access_pk):
        offer = get_object_or_404(Offer, pk=pk)
        access = get_object_or_404(Access.objects.select_related("contact"), pk=access_pk, offer=offer)
        if access.revoked_at is not None:
            messages.info(request, f"{access.contact.email} no longer held “{offer.title}”.")
        else:
            revoke_access(request.site, access=access, acting_user=request.user)
            messages.success(
                request, f"Revoked “{offer.title}” from {access.contact.email}. Nothing was sent."
            )
        return redirect("offer-detail", site=site, pk=offer.pk)


# -- Grant jobs ---------------------------------------------------------------------------------------


class GrantJobView(SitePageMixin, TemplateView):
    """A grant job's progress and result. While it runs, htmx asks for the progress part every two
    seconds (the request carries HX-Request) and gets the partial alone."""

    template_name = "app/offers/grant_job.html"
    partial_template_name = "app/offers/_grant_job_progress.html"
    scope_map = {"GET": Scope.OFFERS_READ}

    def get(self, request, site, pk):
        job = get_object_or_404(
            GrantJob.objects.select_related("offer", "created_by", "created_by_api_key"), pk=pk
        )
        context = self.get_context_data(
            job=job,
            target=describe_target(job.target),
            polling=job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
            unlisted_skips=max(job.skipped - len(job.skips), 0),
            unlisted_errors=max(job.failed - len(job.errors), 0),
        )
        if request.htmx:
            self.template_name = self.partial_template_name
        response = self.render_to_response(context)
        patch_vary_headers(response, ["HX-Request"])
        return response


# -- Products and lessons -----------------------------------------------------------------------------


class ProductListView(SitePageMixin, TemplateView):
    template_name = "app/offers/products.html"
    scope_map = {"GET": Scope.OFFERS_READ}

    def get_context_data(self, **kwargs):
        products = (
            Product.objects.annotate(lesson_count=count_of(Lesson.objects.all(), "product"))
            .prefetch_related("offers")
            .order_by("title", "id")
        )
        return super().get_context_data(products=products, **kwargs)


class ProductCreateView(SitePageMixin, TemplateView):
    template_name = "app/offers/product_new.html"
    scope_map = {"GET": Scope.OFFERS_WRITE, "POST": Scope.OFFERS_WRITE}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", NewProductForm())
        return super().get_context_data(**kwargs)

    def post(self, request, site):
        form = NewProductForm(request.POST)
        if form.is_valid():
            try:
                product = create_product(request.site, **form.cleaned_data)
            except OfferError as error:
                add_domain_error(form, error)
            else:
                n = product.lessons.count()
                messages.success(
                    request, f"Created the product “{product.title}” with {n} lesson{'s' if n != 1 else ''}."
                )
                return redirect("product-detail", site=site, pk=product.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProductPage(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """The product page: its title and description (editable), its lessons in order, and a form to add
    one. Its actions render it again, with status 400, when their input is refused."""

    template_name = "app/offers/product_detail.html"

    def get_context_data(self, *, product, **kwargs):
        kwargs.setdefault(
            "form", ProductForm(initial={"title": product.title, "description": product.description})
        )
        kwargs.setdefault("lesson_form", LessonForm(prefix="lesson"))
        return super().get_context_data(
            product=product,
            lessons=list(Lesson.objects.filter(product=product).order_by("position")),
            offers=list(product.offers.all()),
            **kwargs,
        )

    def render_product(self, product, *, status=200, **kwargs):
        return self.render_to_response(self.get_context_data(product=product, **kwargs), status=status)


class ProductDetailView(ProductPage):
    scope_map = {"GET": Scope.OFFERS_READ, "POST": Scope.OFFERS_WRITE}

    def get(self, request, site, pk):
        return self.render_product(get_object_or_404(Product, pk=pk))

    def post(self, request, site, pk):
        product = get_object_or_404(Product, pk=pk)
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                update_product(request.site, product=product, **form.cleaned_data)
            except OfferError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved the product “{product.title}”.")
                return redirect("product-detail", site=site, pk=product.pk)
        product.refresh_from_db()
        return self.render_product(product, form=form, status=400)


class LessonAddView(ProductPage):
    scope_map = {"POST": Scope.OFFERS_WRITE}

    def post(self, request, site, pk):
        product = get_object_or_404(Product, pk=pk)
        form = LessonForm(request.POST, prefix="lesson")
        if form.is_valid():
            try:
                lesson = add_lesson(request.site, product=product, **form.cleaned_data)
            except OfferError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Added the lesson “{lesson.title}” as lesson {lesson.position}.")
                return redirect("product-detail", site=site, pk=product.pk)
        return self.render_product(product, lesson_form=form, status=400)


class LessonEditView(SitePageMixin, TemplateView):
    template_name = "app/offers/lesson_edit.html"
    scope_map = {"GET": Scope.OFFERS_WRITE, "POST": Scope.OFFERS_WRITE}

    def get(self, request, site, pk, lesson_pk):
        product = get_object_or_404(Product, pk=pk)
        lesson = get_object_or_404(Lesson, pk=lesson_pk, product=product)
        form = LessonForm(initial={"title": lesson.title, "body": lesson.body})
        return self.render_to_response(self.get_context_data(product=product, lesson=lesson, form=form))

    def post(self, request, site, pk, lesson_pk):
        product = get_object_or_404(Product, pk=pk)
        lesson = get_object_or_404(Lesson, pk=lesson_pk, product=product)
        form = LessonForm(request.POST)
        if form.is_valid():
            try:
                update_lesson(request.site, lesson=lesson, **form.cleaned_data)
            except OfferError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved the lesson “{lesson.title}”.")
                return redirect("product-detail", site=site, pk=product.pk)
        lesson.refresh_from_db()
        context = self.get_context_data(product=product, lesson=lesson, form=form)
        return self.render_to_response(context, status=400)


class LessonDeleteView(SitePageMixin, View):
    scope_map = {"POST": Scope.OFFERS_WRITE}

    def post(self, request, site, pk, lesson_pk):
        product = get_object_or_404(Product, pk=pk)
        lesson = get_object_or_404(Lesson, pk=lesson_pk, product=product)
        delete_lesson(request.site, lesson=lesson)
        messages.success(request, f"Deleted the lesson “{lesson.title}”; the lessons after it moved up.")
        return redirect("product-detail", site=site, pk=product.pk)
