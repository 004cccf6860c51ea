from runtime.service import serve
from services.warehouse.app import service

serve(service)
