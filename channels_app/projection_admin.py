"""Admin bases for projections: the platforms' handlers write them, staff only read them."""

from django.contrib import admin


class ProjectionAdmin(admin.ModelAdmin):
    """Projections are written by the platforms' handlers only: read-only here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProjectionInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
