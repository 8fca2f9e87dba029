"""Export: payloads and results back to COCO, YOLO and CVAT files, in pixels.

``export_coco``, ``export_yolo`` and ``export_cvat`` (in :mod:`prelabel.export.coco`,
``.yolo``, ``.cvat``) take what :func:`prelabel.export.jobs.pixel_jobs` gives (the jobs of a
results folder or a payload file, with the frame sizes of :mod:`prelabel.export.sizes`).
This package imports nothing heavy itself: ``convert`` imports :mod:`.sizes` to write the
sidecar.
"""
