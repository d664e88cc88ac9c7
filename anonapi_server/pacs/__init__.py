"""Studies from a PACS as job sources: configuration, the DIMSE and DICOMweb clients, retrieval.

The worker hands a WADO job to `retrieve.retrieve_study`, which streams the study into a folder
of its own; from there the job goes the same way as a share job (opt-out, de-identification,
publishing). The protocol libraries are imported only when a PACS is contacted.
"""
