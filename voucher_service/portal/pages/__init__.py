"""Portal pages by area: public, account, enterprise, provider and authority."""
