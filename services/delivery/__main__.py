from services.delivery.app import service
from runtime.service import serve

serve(service)
