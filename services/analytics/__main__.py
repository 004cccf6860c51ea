from services.analytics.app import service
from shared.runtime.service import serve

serve(service)
