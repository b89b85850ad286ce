"""The web portal (/portal/): server-rendered pages for startups, providers and the authority."""
