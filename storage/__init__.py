"""The store: tables, the programme-file importer, migrations and the queries everything uses."""
