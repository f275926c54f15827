"""`__in` with a list of ids compiled as one array parameter on PostgreSQL.

Django writes `id IN (%s, %s, ...)`, one parameter per value, and compiles, binds and
quotes each one in Python. `id = ANY(%s::bigint[])` with the list as one parameter is
planned the same (PostgreSQL turns an IN list into that array comparison itself) and saves
~14,000 instructions per value. A search passes the caller's ~500 chat ids, a page of
chats 100 message ids twice. Django ticket #37211 proposes this for Django itself.

Only for integer and UUID columns compared with a list of values; anything else (a
subquery, a composite key, other types) and every other database keep Django's IN. The
lookups are registered when Django loads this backend, at start-up.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field
from django.db.models.expressions import Col
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

ARRAY_TYPES = {"smallint", "integer", "bigint", "uuid"}


class ArrayParameter:
    def as_postgresql(self, compiler, connection):
        db_type = self.lhs.output_field.db_type(connection)
        if not (isinstance(self.lhs, Col) and self.rhs_is_direct_value()) or (
            db_type not in ARRAY_TYPES
        ):
            return self.as_sql(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, values)


@Field.register_lookup
class ArrayParameterIn(ArrayParameter, In):
    pass


@ForeignObject.register_lookup
class ArrayParameterRelatedIn(ArrayParameter, RelatedIn):
    pass
