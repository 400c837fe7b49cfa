"""Stateless UI pieces: layout, tables, forms and charts."""
