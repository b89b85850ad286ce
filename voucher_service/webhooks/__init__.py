"""The application's side of provider webhooks (the engine itself is ``providers.webhooks``).

``runtime`` builds the engine's parts from the settings, ``service`` is what routes call,
``jobs`` registers the delivery job, ``problems`` maps the engine's errors to problem responses,
``openapi`` documents the payloads in the OpenAPI ``webhooks`` section.
"""
