"""Contact imports: a CSV uploaded or pasted becomes contacts.

reading.py finds the file's encoding, delimiter and first row and numbers its rows; mapping.py says what
each column becomes (the headers of common exports are recognised); rows.py turns a row into a contact
row or the reasons it cannot be one; merge.py writes the rows in one transaction under the status rules
(COPY and one set-based merge on PostgreSQL, batches of the ORM elsewhere); services.py holds the use
cases (upload, start, run, discard) and selectors.py the reads (the preview, the error report). The
Celery task (contacts.tasks) runs `run_import`; api.py, views.py and forms.py are the API and pages.
"""
