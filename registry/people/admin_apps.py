"""Django's admin app, on the registry's own admin site (registry/people/admin_site.py).

Apart from that module: an app's configuration is imported before any model can be.
"""

from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    default_site = "registry.people.admin_site.RegistryAdminSite"
