"""Programmes: rules, budgets, application windows, review stages."""
