"""The news-tracker pods as Pulumi component resources, one module each, plus the shared
pod building blocks (pod.py) and input checks (validation.py)."""
from components.activemq import ActiveMQBroker, ActiveMQBrokerArgs, BrokerClient, BrokerLogins, Credentials
from components.news_api import NewsApi, NewsApiArgs
from components.news_job import FileSource, NewsApiSource, NewsJob, NewsJobArgs

__all__ = ["ActiveMQBroker", "ActiveMQBrokerArgs", "BrokerClient", "BrokerLogins", "Credentials", "FileSource",
           "NewsApi", "NewsApiArgs", "NewsApiSource", "NewsJob", "NewsJobArgs"]
