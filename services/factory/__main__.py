from services.factory.app import service
from runtime.service import serve

serve(service)
