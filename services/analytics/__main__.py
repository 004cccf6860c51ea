from services.analytics.app import service
from runtime.service import serve

serve(service)
