"""The authority's provider registry routes (``/v1/admin/providers``) and the public list.

The rules live in ``providers.registry``; this domain adds HTTP, organisation creation and audit.
"""
