from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from chatproject.files import FileTooLarge
from chatproject.middleware import DATABASE_DOWN_ERRORS, service_unavailable


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


def exception_handler(exc, context):
    """DRF's handler, plus what services raise: Django's ValidationError (400, field errors
    or one `detail`), FileTooLarge (413), and 503 when the database is down (DRF would let
    it become a 500)."""
    if isinstance(exc, DATABASE_DOWN_ERRORS):
        return service_unavailable()
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, FileTooLarge):
        exc = PayloadTooLarge(str(exc))
    return drf_exception_handler(exc, context)


def validation_error_detail(error: DjangoValidationError) -> dict:
    """`{"field": [...]}` for errors about fields, `{"detail": "..."}` for the rest."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"detail": " ".join(error.messages)}
