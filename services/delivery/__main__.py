from runtime.service import serve
from services.delivery.app import service

serve(service)
