"""Make the audit log refuse UPDATE at the database level too, so not even raw SQL through
the app's connection can rewrite history. (DELETE stays possible for retention and for
test-database flushing; the app refuses it.)"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQLITE_CREATE = """
CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS core_auditentry_no_update;"

POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION core_auditentry_refuse_update() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_auditentry_refuse_update()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry",
    "DROP FUNCTION IF EXISTS core_auditentry_refuse_update()",
]


def create_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        for statement in POSTGRES_CREATE:
            schema_editor.execute(statement)


def drop_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        for statement in POSTGRES_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
