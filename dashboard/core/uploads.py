"""Uploads are small (a docker config.json is a few KiB), so none is kept beyond FILE_UPLOAD_MAX_MEMORY_SIZE.

Django's own handlers keep every uploaded byte, in memory or in a temporary file, before any form sees
the file: a form checking `upload.size` refused a gigabyte only after holding it. This handler keeps
at most FILE_UPLOAD_MAX_MEMORY_SIZE + 1 bytes in memory and only counts the rest, so the file a form
gets says its full `size` (and can be refused by it) while holding no more than the limit and a byte.
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class CappedMemoryUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.kept = BytesIO()
        self.room = settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1

    def receive_data_chunk(self, raw_data, start):
        if self.room > 0:
            self.kept.write(raw_data[: self.room])
            self.room -= len(raw_data)
        return None

    def file_complete(self, file_size):
        self.kept.seek(0)
        return InMemoryUploadedFile(
            file=self.kept,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
