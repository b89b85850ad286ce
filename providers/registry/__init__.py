"""The provider registry: who may sell under the programmes, and what they sell.

- ``models``: ``provider_profile`` (one per provider organisation: onboarding state
  ``proposed → publicity → approved → suspended``, the kinds it sells, the generative-AI filing
  number of a model provider) and ``catalogue_item`` (what it sells: resource and unit).
- ``service``: the state changes, each checked and audited by the caller, and the checks other
  domains make before money moves (``require_redeemable``, ``is_approved``).

Nothing here imports the application; ``organisation.id`` is referenced by table name.
"""
