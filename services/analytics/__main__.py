from runtime.service import serve
from services.analytics.app import service

serve(service)
