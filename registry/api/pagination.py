"""Every list of the API is paginated: `?page=2&page_size=500` (at most 1000 per page)."""

from rest_framework.pagination import PageNumberPagination


class RegistryPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
