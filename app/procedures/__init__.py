"""The own machinery of procedures that need more than the generic pages: one package per procedure, named
after it, holding its tables (``models``), services, pages (``views``), the ``plugin`` that plugs them in and
the templates its blueprint serves. Each package is listed in its declaration's ``owns``; generic code never
imports it (it is reached through the registry: ``Procedure.plugin``, ``Demo.loader``, ``Document.gatherer``,
``Procedure.applicant_alias``)."""
