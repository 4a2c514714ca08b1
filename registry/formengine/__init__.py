"""The form engine: schemas, logic, validation and REDCap dictionaries, as plain Python.

Nothing here imports Django, so the web forms, the API, the quality rules and the exports all
call the same code, and the engine can be tested on its own.
"""
