from rest_framework.views import exception_handler as drf_exception_handler

from chatproject.middleware import DATABASE_DOWN_ERRORS, is_pool_timeout, service_unavailable


def exception_handler(exc, context):
    """DRF's handler, plus 503 when the database is down (DRF would let it become a 500)."""
    if isinstance(exc, DATABASE_DOWN_ERRORS) or is_pool_timeout(exc):
        return service_unavailable()
    return drf_exception_handler(exc, context)
