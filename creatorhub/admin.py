"""The Django admin, for platform staff. Audited platform-wide access: the admin lists every site's rows,
and deleting a site or a user collects rows of every site, so its views run in `platform_wide()`."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from creatorhub.models import ApiKey, Invitation, Membership, Plan, Site, User
from creatorhub.tenancy import platform_wide


class PlatformWideAdmin(admin.ModelAdmin):
    def changeform_view(self, *args, **kwargs):
        with platform_wide(f"admin: {self.opts.label} form"):
            return super().changeform_view(*args, **kwargs)

    def changelist_view(self, *args, **kwargs):
        with platform_wide(f"admin: {self.opts.label} list"):
            response = super().changelist_view(*args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            return response

    def delete_view(self, *args, **kwargs):
        with platform_wide(f"admin: {self.opts.label} delete"):
            response = super().delete_view(*args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            return response


@admin.register(User)
class UserAdmin(PlatformWideAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        ("Platform", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_limit", "active_customer_limit", "price", "currency"]


@admin.register(Site)
class SiteAdmin(PlatformWideAdmin):
    list_display = ["name", "slug", "plan", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["plan"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []


@admin.register(Membership)
class MembershipAdmin(PlatformWideAdmin):
    list_display = ["user", "site", "role", "created_at"]
    list_filter = ["role"]


@admin.register(Invitation)
class InvitationAdmin(PlatformWideAdmin):
    list_display = ["email", "site", "role", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(ApiKey)
class ApiKeyAdmin(PlatformWideAdmin):
    list_display = ["name", "prefix", "site", "role", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash"]
