using System.Text.Json.Serialization;
using Broker.Core.Registry;

namespace Broker.Core.CloudToDevice;

/// <summary>Source-generated JSON for queued messages and feedback.</summary>
[JsonSourceGenerationOptions(Converters = [typeof(IotHubTimeConverter)], DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredCloudToDeviceMessage))]
[JsonSerializable(typeof(FeedbackRecord))]
[JsonSerializable(typeof(List<FeedbackRecord>))]
public sealed partial class CloudToDeviceJsonContext : JsonSerializerContext
{
}
