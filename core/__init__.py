"""Plain Python shared by every app, below all of them: the domain errors and their HTTP form.

Not a Django app (it has no models); it imports nothing from the project's apps.
"""
