"""What a clinician and a PACS receive: findings joined per level across views, report.html and a DICOM SR."""
